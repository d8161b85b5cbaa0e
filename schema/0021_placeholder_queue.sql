-- Placeholder so that 0022 loads on the queue branch before 0021 (the
-- connectors' migration on another branch) is merged: the loader wants
-- contiguous numbers. Drop this file at merge in favour of that 0021.
SELECT 1;
