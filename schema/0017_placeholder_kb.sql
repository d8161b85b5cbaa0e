-- Placeholder only, so that this branch's 0018 migrates in sequence: the
-- kb branch brings the real 0017 (problems and knowledge base). Delete
-- this file when merging next to it.
SELECT 1;
