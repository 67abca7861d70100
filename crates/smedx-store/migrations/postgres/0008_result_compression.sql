-- Stored results (the engine's report, about 14 kB of JSON each) are compressed with LZ4 where
-- the server has it (PostgreSQL 14 and later, built with LZ4, as the common packages are):
-- several times faster to write than the default, which a bulk import of 100,000 assessments
-- notices. Values already stored keep their compression. The SQLite migration of the same
-- number changes nothing (SQLite does not compress).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        ALTER TABLE assessments ALTER COLUMN result SET COMPRESSION lz4;
    END IF;
END
$$;
