INSERT INTO views_state VALUES (?)
