-- Release 0.1.0 of the sample service: workflows get an owner (who may edit them), looked up by owner.
ALTER TABLE workflows ADD COLUMN owner text;
CREATE INDEX workflows_owner_idx ON workflows (owner);
