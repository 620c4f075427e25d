-- +goose Up
-- An update sent with the COMMIT, whose result nobody reads before the commit, must fail the
-- transaction when it updates nothing: this says why, with an SQLSTATE of Baton's own (BA409 a
-- stale revision, BA404 a missing row).
-- +goose StatementBegin
CREATE FUNCTION baton_check_update(updated boolean, row_exists boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF updated THEN
        RETURN true;
    ELSIF row_exists THEN
        RAISE EXCEPTION 'revision conflict' USING ERRCODE = 'BA409';
    END IF;
    RAISE EXCEPTION 'no such row' USING ERRCODE = 'BA404';
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION baton_check_update(boolean, boolean);
