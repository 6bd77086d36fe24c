-- What the runnable SQL samples of the docs (```sql runnable) assume exists before the first
-- of them runs: the roles and the application table the user guide refers to.
CREATE ROLE app LOGIN;
CREATE ROLE ops LOGIN;
CREATE SCHEMA app;
CREATE TABLE app.stock (sku text PRIMARY KEY, on_hand integer NOT NULL, reserved integer NOT NULL DEFAULT 0);
INSERT INTO app.stock VALUES ('book', 5, 0);
