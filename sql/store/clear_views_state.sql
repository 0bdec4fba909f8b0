DELETE FROM views_state
