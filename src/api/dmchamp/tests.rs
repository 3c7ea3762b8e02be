//! Unit tests of the client's pure parts; the requests are covered by
//! `tests/dmchamp_contract.rs` against the sandbox.

use secrecy::SecretString;

use super::contacts::{Lookup, lookup_of};
use super::*;

#[test]
fn searches_that_are_a_phone_or_an_email_become_exact_lookups() {
    assert_eq!(
        lookup_of("+31 6 1234 5678"),
        Some(Lookup::Phone("+31612345678".into()))
    );
    assert_eq!(
        lookup_of("0031612345678"),
        Some(Lookup::Phone("+31612345678".into()))
    );
    assert_eq!(
        lookup_of(" sanne@example.nl "),
        Some(Lookup::Email("sanne@example.nl".into()))
    );
    // No country to read a national number in, and plain words: the book.
    assert_eq!(lookup_of("0612345678"), None);
    assert_eq!(lookup_of("Sanne"), None);
    assert_eq!(lookup_of("sanne@"), None);
    assert_eq!(lookup_of("12"), None);
}

#[test]
fn the_key_never_travels_over_plain_http_to_another_host() {
    assert!(check_transport("https://api.dmchamp.com/v1").is_ok());
    assert!(check_transport("http://127.0.0.1:8080/v1").is_ok());
    assert!(check_transport("http://localhost:8080/v1").is_ok());
    assert!(check_transport("http://[::1]:8080/v1").is_ok());
    let e = check_transport("http://api.dmchamp.com/v1").unwrap_err();
    assert!(e.to_string().contains("https://"), "{e}");
    let e = check_transport("not a url?apiKey=secret").unwrap_err();
    assert!(!e.to_string().contains("secret"), "{e}");
}

#[test]
fn local_pages_split_and_say_where_the_next_starts() {
    let items: Vec<u32> = (0..5).collect();
    let first = local_page(items.clone(), None, 2).expect("page");
    assert_eq!((&first.items, first.total), (&vec![0, 1], Some(5)));
    let next = first.next.clone().expect("more follow");
    let second = local_page(items.clone(), Some(&next), 2).expect("page");
    assert_eq!(second.items, vec![2, 3]);
    let last = local_page(items.clone(), second.next.as_ref(), 2).expect("page");
    assert_eq!((&last.items, last.has_more()), (&vec![4], false));
    let beyond = local_page(items.clone(), Some(&PageCursor::new("at:9")), 2).expect("page");
    assert!(beyond.items.is_empty() && !beyond.has_more());
    assert_eq!(
        local_page(items.clone(), None, 0)
            .expect("page")
            .items
            .len(),
        5
    );
    let bad = local_page(items, Some(&PageCursor::new("page=2")), 2);
    assert!(matches!(bad, Err(ApiError::Decode(_))));
}

#[test]
fn a_refused_key_says_what_to_check() {
    let e = error_of(
        401,
        br#"{"error":"Unauthorized: invalid or missing API key"}"#,
    );
    match &e {
        ApiError::InvalidCredentials(m) => assert!(m.contains("invalid or missing API key")),
        other => panic!("expected InvalidCredentials, got {other:?}"),
    }
    assert!(matches!(error_of(404, b"{}"), ApiError::NotFound(_)));
    assert!(matches!(
        error_of(500, br#"{"error":"Internal server error"}"#),
        ApiError::Server { status: 500, .. }
    ));
}

#[test]
fn debug_output_hides_the_key() {
    let key = "dmk_live_debug_secret";
    let options = DmChampOptions::new("https://api.dmchamp.com/v1", SecretString::from(key));
    assert!(!format!("{options:?}").contains(key));
    let client = DmChampClient::new(options).expect("builds");
    assert!(!format!("{client:?}").contains(key));
}

#[test]
fn capabilities_are_honest() {
    let client = DmChampClient::new(DmChampOptions::new(
        "https://api.dmchamp.com/v1",
        SecretString::from("k"),
    ))
    .expect("builds");
    let caps = client.capabilities();
    assert!(caps.contacts && caps.templates && caps.send_text);
    assert!(!caps.update_status && !caps.assign && !caps.star && !caps.priority);
    assert!(!caps.conversation_tags && !caps.agents && !caps.channels);
    assert!(!caps.bulk_contact_import && !caps.batched_reads);
    assert!(client.statuses().is_empty());
    assert_eq!(client.name(), "DM Champ");
}
