-- Stored policy versions. A claim pins the version it started under and keeps it
-- for its whole life unless an admin migrates it, so a version is never changed
-- once written: a new file is a new version. body is the file as applied; the
-- checksum makes re-applying an unchanged file a no-op.
CREATE TABLE policies (
    name        text NOT NULL,
    version     int NOT NULL CHECK (version >= 1),
    body        text NOT NULL,
    checksum    text NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);
