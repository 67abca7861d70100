-- The PostgreSQL migration of the same number compresses stored results with LZ4; SQLite does
-- not compress, so there is nothing to change here (the file keeps both histories the same).
SELECT 1;
