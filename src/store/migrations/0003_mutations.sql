-- The outbox becomes the log of every change the agent makes: replies and
-- actions on conversations, told apart by `kind`. `seq` still orders each
-- kind as first made.
ALTER TABLE outbox RENAME TO mutations;
ALTER TABLE mutations ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';
