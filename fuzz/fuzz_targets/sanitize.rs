//! The sanitizer, truncation and wrapping on arbitrary text: no panic, and
//! the output is clean and stable.

#![no_main]

use libfuzzer_sys::fuzz_target;
use termdesk::text;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let out = text::sanitize(s);
    assert_eq!(text::sanitize(&out), out);
    assert!(!out.chars().any(|c| c != '\n' && c.is_control()));
    let line = text::sanitize_line(s);
    assert_eq!(text::sanitize_line(&line), line);
    assert!(!line.contains('\n'));
    for max in [1, 7, 40] {
        assert!(text::width(&text::truncate(&line, max)) <= max);
        assert!(text::width(&text::truncate_start(&line, max)) <= max);
        let _ = text::wrap(&out, max);
        let _ = text::wrap_words(&line, max);
    }
    let _ = text::html_to_text(s, 80);
});
