-- ... and its threads, when it has a number of its own.
SET threads = {threads};
