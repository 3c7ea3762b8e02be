-- Core cache tables. Domain objects live whole in `json`; the other columns
-- exist only to be filtered, ordered or joined on.

CREATE TABLE conversations (
    id          TEXT PRIMARY KEY NOT NULL,
    updated_at  INTEGER NOT NULL,          -- microseconds since the epoch, UTC
    contact_id  TEXT,
    unread      INTEGER NOT NULL DEFAULT 0,
    json        TEXT NOT NULL
);
CREATE INDEX conversations_by_recency ON conversations (updated_at DESC, id ASC);

-- `seq` is an explicit rowid so it survives VACUUM: the search index
-- refers to messages and contacts by it.
CREATE TABLE messages (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    conversation_id  TEXT NOT NULL,
    client_id        TEXT,
    created_at       INTEGER NOT NULL,     -- microseconds since the epoch, UTC
    json             TEXT NOT NULL
);
CREATE INDEX messages_by_thread ON messages (conversation_id, created_at, id);
CREATE INDEX messages_by_client_id ON messages (conversation_id, client_id)
    WHERE client_id IS NOT NULL;

CREATE TABLE contacts (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    updated_at  INTEGER,
    name        TEXT NOT NULL,             -- the label rows show
    phone       TEXT,
    json        TEXT NOT NULL
);

-- Directories replaced whole on every sync; `pos` keeps the server's order.
CREATE TABLE agents    (id TEXT PRIMARY KEY NOT NULL, pos INTEGER NOT NULL, json TEXT NOT NULL);
CREATE TABLE channels  (id TEXT PRIMARY KEY NOT NULL, pos INTEGER NOT NULL, json TEXT NOT NULL);
CREATE TABLE templates (id TEXT PRIMARY KEY NOT NULL, pos INTEGER NOT NULL, json TEXT NOT NULL);
CREATE TABLE tags      (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, json TEXT NOT NULL);

-- Sync cursors, view settings: opaque to the store.
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);

CREATE TABLE drafts (conversation_id TEXT PRIMARY KEY NOT NULL, text TEXT NOT NULL);

-- `seq` orders replies as first queued; an update keeps the place.
CREATE TABLE outbox (
    seq              INTEGER PRIMARY KEY,
    client_id        TEXT NOT NULL UNIQUE,
    conversation_id  TEXT NOT NULL,
    json             TEXT NOT NULL
);
