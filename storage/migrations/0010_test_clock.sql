-- The test clock of a rehearsal server (package testclock): one row, the
-- time every instance's clock stands at while the test clock is enabled.
-- Nothing writes it unless serve was started with KOPILKA_TEST_CLOCK.
CREATE TABLE test_clock (
    id INTEGER PRIMARY KEY,
    now BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
