-- Opens a transaction (the writer keeps one open across batches; migrations run in one).
BEGIN TRANSACTION
