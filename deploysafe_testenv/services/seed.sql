-- Sample schema for backups and the sample service: foreign keys, check constraints, sequences.
CREATE TABLE customers (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL UNIQUE CHECK (position('@' in email) > 1),
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT '2026-01-01T00:00:00Z'
);
CREATE TABLE orders (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers(id),
    total_cents integer NOT NULL CHECK (total_cents >= 0),
    status      text NOT NULL CHECK (status IN ('new', 'paid', 'shipped')),
    note        text
);
CREATE TABLE order_items (
    order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    line     integer NOT NULL,
    sku      text NOT NULL,
    qty      integer NOT NULL CHECK (qty > 0),
    PRIMARY KEY (order_id, line)
);
CREATE TABLE workspaces (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE workflows (
    id           bigserial PRIMARY KEY,
    workspace_id bigint NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name         text NOT NULL,
    steps        jsonb NOT NULL DEFAULT '[]'
);
INSERT INTO customers (email, name)
    SELECT 'user' || g || '@example.test', 'Customer ' || g FROM generate_series(1, 1000) g;
INSERT INTO orders (customer_id, total_cents, status, note)
    SELECT 1 + (g % 1000), (g * 37) % 100000, (ARRAY['new', 'paid', 'shipped'])[1 + g % 3],
           CASE WHEN g % 7 = 0 THEN NULL ELSE 'note ' || g END
    FROM generate_series(1, 3000) g;
INSERT INTO order_items (order_id, line, sku, qty)
    SELECT 1 + (g % 3000), g / 3000 + 1, 'SKU-' || (g % 250), 1 + g % 5 FROM generate_series(0, 5999) g;
INSERT INTO workspaces (name) SELECT 'workspace-' || g FROM generate_series(1, 20) g;
INSERT INTO workflows (workspace_id, name, steps)
    SELECT 1 + (g % 20), 'workflow-' || g, jsonb_build_array('build', 'test', 'deploy') FROM generate_series(1, 100) g;
ANALYZE;
