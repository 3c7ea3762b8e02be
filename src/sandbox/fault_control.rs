//! Steering the fault switches of a running GraphQL sandbox from a test in
//! the same process (the same vocabulary as `/__sandbox/faults`).

use super::{SandboxControl, clamp_rate, lock};

impl SandboxControl {
    /// Every token issued so far is refused (`UNAUTHORIZED`, "revoked");
    /// new ones can still be fetched.
    pub fn revoke_all_tokens(&self) {
        lock(&self.shared.auth).revoke_all();
    }

    /// While true, `generateOAuthToken` refuses the client credentials
    /// (`INVALID_CLIENT`).
    pub fn set_reject_credentials(&self, reject: bool) {
        self.shared.kit.edit(|s| s.reject_credentials = reject);
    }

    /// Share (0.0–1.0, NaN = 0) of API requests answered 503 before
    /// anything is done; seeded from the sandbox seed.
    pub fn set_error_rate(&self, rate: f64) {
        self.shared.kit.edit(|s| s.error_rate = clamp_rate(rate));
    }

    /// The next `n` API requests answer 429 with `Retry-After: retry_after_s`.
    pub fn storm_next(&self, n: u32, retry_after_s: u64) {
        self.shared.kit.edit(|s| {
            s.storm_next = n;
            s.storm_retry_after_s = retry_after_s.max(1);
        });
    }

    /// The next `n` answers are HTTP 200 with a body that is not JSON.
    pub fn malformed_json_next(&self, n: u32) {
        self.shared.kit.edit(|s| s.malformed_json_next = n);
    }

    /// The next `n` answers declare their full length and stop halfway.
    pub fn truncate_next(&self, n: u32) {
        self.shared.kit.edit(|s| s.truncate_next = n);
    }

    /// The next `n` answers send headers and half the body, then hang until
    /// the client gives up or the sandbox shuts down.
    pub fn hang_next(&self, n: u32) {
        self.shared.kit.edit(|s| s.hang_next = n);
    }

    /// The next `n` answers with a `data` object lose their last root field
    /// to an `INTERNAL_SERVER_ERROR` entry in `errors` (HTTP 200).
    pub fn partial_errors_next(&self, n: u32) {
        self.shared.kit.edit(|s| s.partial_errors_next = n);
    }
}
