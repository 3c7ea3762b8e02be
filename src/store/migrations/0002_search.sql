-- Full-text search over messages and contacts. The text indexed is the
-- output of `search_text::fold`, so the tokenizer only has to split on
-- spaces: diacritics are already handled and must not be stripped again
-- (kana voicing marks are kept on purpose). Contentless: the original text
-- is in the json columns already.
--
-- message_search rowids pack (created_at seconds, messages.seq) so that
-- FTS5's native rowid order is newest first and a LIMIT stops early.
-- The rows are filled from existing messages by the code that runs this
-- migration.

CREATE VIRTUAL TABLE message_search USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
);

CREATE VIRTUAL TABLE contact_search USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"
);
