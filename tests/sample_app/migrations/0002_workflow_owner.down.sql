-- Back to 0.0.9: the owner column and its index go; nothing else may change.
DROP INDEX workflows_owner_idx;
ALTER TABLE workflows DROP COLUMN owner;
