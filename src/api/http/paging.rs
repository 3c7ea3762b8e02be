//! Page-number paging behind opaque cursors: for APIs that page by number,
//! the cursor is the decimal page number, read back only by the provider
//! that issued it.

use crate::api::{ApiError, ApiResult};
use crate::domain::PageCursor;

/// The 1-based page a cursor names (`None`: the first); a cursor this
/// provider did not issue is refused naming `provider`.
pub fn page_number(cursor: Option<&PageCursor>, provider: &str) -> ApiResult<u32> {
    let Some(cursor) = cursor else {
        return Ok(1);
    };
    cursor
        .as_str()
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| {
            ApiError::Decode(format!(
                "the page position {:?} was not issued by {provider}",
                crate::text::truncate(&crate::text::sanitize_line(cursor.as_str()), 40)
            ))
        })
}

/// The cursor of the page after `page`, when the server says there is one.
pub fn next_page(page: u32, has_next: bool) -> Option<PageCursor> {
    has_next.then(|| PageCursor::new(page.saturating_add(1).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_round_trip_and_foreign_cursors_are_refused() {
        assert_eq!(page_number(None, "X"), Ok(1));
        let next = next_page(4, true).unwrap();
        assert_eq!(page_number(Some(&next), "X"), Ok(5));
        assert_eq!(next_page(4, false), None);
        for foreign in ["0", "at:3", "-1", ""] {
            let err = page_number(Some(&PageCursor::new(foreign)), "Acme").unwrap_err();
            assert!(err.to_string().contains("not issued by Acme"), "{err}");
        }
    }
}
