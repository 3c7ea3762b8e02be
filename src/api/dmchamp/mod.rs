//! DM Champ REST provider (`https://api.dmchamp.com/v1`, `apiKey` query auth).

pub mod book;
pub mod wire;
