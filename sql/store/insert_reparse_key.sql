INSERT INTO reparse_keys VALUES (?)
