//! Arbitrary answer bodies through every provider's decoding: no panic,
//! and every text that comes out is clean.

#![no_main]

use libfuzzer_sys::fuzz_target;
use termdesk::api::decode_all::decode_all;
use termdesk::text::sanitize;

fuzz_target!(|data: &[u8]| {
    for text in decode_all(data) {
        assert_eq!(sanitize(&text), text);
    }
});
