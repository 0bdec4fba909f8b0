-- Where `rua fetch` left each IMAP folder. A folder is resumed after last_uid while its
-- UIDVALIDITY is unchanged; a new UIDVALIDITY means the server renumbered it, and the whole
-- folder is read again (deduplication keeps the totals exact).
CREATE TABLE imap_state (
    mailbox       VARCHAR   PRIMARY KEY,  -- imap://user@host:port/folder
    uid_validity  BIGINT    NOT NULL,
    last_uid      BIGINT    NOT NULL,     -- every message up to this UID was handled
    updated_at    TIMESTAMP NOT NULL
);
