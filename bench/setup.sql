-- Benchmark set-up inside the throwaway server: the extension, the benchmark plugin, the SQL
-- activity of sql3, and the procedures that drive the workloads from inside the server (a
-- procedure can commit between steps, so starts are visible to the workers at once).
CREATE EXTENSION duroxide;
SELECT duroxide.register_plugin('duroxide_bench');

CREATE TABLE bench_rows (id bigserial PRIMARY KEY, input text);
CREATE FUNCTION bench_insert(input text) RETURNS text LANGUAGE sql AS $$
    INSERT INTO bench_rows (input) VALUES (input) RETURNING input
$$;
SELECT duroxide.register_sql_activity('BenchInsert', 'bench_insert(text)');

CREATE TABLE bench_latencies (workload text, ms double precision);

CREATE FUNCTION bench_finished_within(instance text, timeout interval) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM duroxide.wait_for_orchestration(instance, timeout);
    RETURN true;
EXCEPTION WHEN query_canceled THEN
    IF SQLERRM NOT LIKE 'timed out after%' THEN
        RAISE; -- a real cancel
    END IF;
    RETURN false;
END
$$;

-- Starts n instances in one transaction and waits until all have finished.
CREATE PROCEDURE bench_throughput(orchestration text, n integer, prefix text,
                                  INOUT seconds double precision DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    PERFORM bench_start(prefix || i, orchestration, '1000') FROM generate_series(1, n) AS i;
    COMMIT;
    -- Short waits, each followed by a commit: a waiting statement holds its snapshot (and a
    -- procedure holds the one it takes after a COMMIT until the next), and a snapshot held for
    -- the whole run would keep every dead queue row alive for the workers' fetches to step
    -- over. See "Long transactions" in docs/operations.md.
    FOR i IN 1..n LOOP
        LOOP
            EXIT WHEN bench_finished_within(prefix || i, '200 ms');
            COMMIT;
        END LOOP;
        COMMIT;
    END LOOP;
    seconds := extract(epoch FROM clock_timestamp() - t0);
END
$$;

-- One instance at a time: start (or, with raise_go, raise "Go" once the instance waits for it)
-- and wait until the client sees the terminal status; records each latency.
CREATE PROCEDURE bench_latency(orchestration text, n integer, prefix text,
                               raise_go boolean DEFAULT false)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    FOR i IN 1..n LOOP
        IF raise_go THEN
            PERFORM duroxide.start_orchestration(prefix || i, orchestration, '');
            COMMIT;
            PERFORM duroxide.wait_for_status_change(prefix || i, 0, '1 min');
            t0 := clock_timestamp();
            PERFORM duroxide.raise_event(prefix || i, 'Go', 'go');
        ELSE
            t0 := clock_timestamp();
            PERFORM bench_start(prefix || i, orchestration, '');
        END IF;
        COMMIT;
        PERFORM duroxide.wait_for_orchestration(prefix || i, '10 min');
        INSERT INTO bench_latencies
             VALUES (prefix, extract(epoch FROM clock_timestamp() - t0) * 1000);
        COMMIT;
    END LOOP;
END
$$;

-- fan1000 / fan5000: one instance at a time, waiting as bench_throughput does (short waits,
-- a commit after each): a wait held for the whole fan-out would hold its snapshot, and every
-- activity fetch would then visit each activity row deleted since it began, so the fetch would
-- cost more with every completed activity (the fan-out quadratic in its width; see "Long
-- transactions" in docs/operations.md).
CREATE PROCEDURE bench_wide(orchestration text, n integer, prefix text)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    FOR i IN 1..n LOOP
        t0 := clock_timestamp();
        PERFORM bench_start(prefix || i, orchestration, '');
        COMMIT;
        LOOP
            EXIT WHEN bench_finished_within(prefix || i, '200 ms');
            COMMIT;
        END LOOP;
        INSERT INTO bench_latencies
             VALUES (prefix, extract(epoch FROM clock_timestamp() - t0) * 1000);
        COMMIT;
    END LOOP;
END
$$;

-- sqlwf3 and sqlfan10: SQL-authored workflows (docs/workflows.md) with 3 sequential sql steps
-- and a parallel of 10 sql steps, each inserting one row as sql3's BenchInsert does. SQL steps
-- run as the role that starts the instance and never as a superuser: the driver starts them
-- as bench_wf (SET ROLE), and the procedures above start "wf:<name>" with start_workflow.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_wf') THEN
        CREATE ROLE bench_wf IN ROLE duroxide_user;
    END IF;
END $$;
GRANT INSERT ON bench_rows, bench_latencies TO bench_wf;
GRANT USAGE ON SEQUENCE bench_rows_id_seq TO bench_wf;
SET ROLE bench_wf;
SELECT duroxide.define_workflow('BenchSqlWf3', duroxide.wf_seq(
    VARIADIC array_fill(duroxide.wf_sql('INSERT INTO public.bench_rows (input) VALUES ($1)',
                                        '["$input.n"]'), ARRAY[3])));
SELECT duroxide.define_workflow('BenchSqlFan10', duroxide.wf_parallel(
    VARIADIC array_fill(duroxide.wf_sql('INSERT INTO public.bench_rows (input) VALUES ($1)',
                                        '["$input.n"]'), ARRAY[10])));
RESET ROLE;

-- start_orchestration, or start_workflow for "wf:<workflow>".
CREATE FUNCTION bench_start(instance text, orchestration text, input text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF starts_with(orchestration, 'wf:') THEN
        PERFORM duroxide.start_workflow(instance, substr(orchestration, 4),
                                        jsonb_build_object('n', input));
    ELSE
        PERFORM duroxide.start_orchestration(instance, orchestration, input);
    END IF;
END
$$;
