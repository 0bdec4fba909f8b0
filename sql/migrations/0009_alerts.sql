-- rua schema, version 9: alerts (`rua alerts`). Each is stored once under a key that names
-- the event (kind/domain/what/day), so the same event never fires twice.
CREATE TABLE alerts (
    alert_key        VARCHAR PRIMARY KEY,  -- e.g. unauthorized_spike/example.com/2026-11-30
    kind             VARCHAR   NOT NULL,   -- new_source | pass_rate_drop | unauthorized_spike | reporter_silent | policy_changed | legitimate_rejected | rejected_inputs
    domain           VARCHAR,              -- the policy domain; NULL for rejected_inputs
    day              DATE,                 -- the UTC day of the event
    subject          VARCHAR   NOT NULL,   -- what it is about: a sender, a reporter, a policy
    message          VARCHAR   NOT NULL,   -- one line for people
    value            DOUBLE,               -- the figure that fired (a rate, a count)
    baseline         DOUBLE,               -- what it was compared with
    raised_at        TIMESTAMP NOT NULL,
    acknowledged_at  TIMESTAMP             -- `rua alerts ack`
);
