-- A statement that must not commit when what it changed is not what it was asked to change (a
-- settlement's fulfilment whose COMMIT is already written behind it, decision 015) checks itself:
-- `select relais_assert(<condition>, '<what went wrong>')` raises, so the transaction aborts and
-- its COMMIT only rolls back. Says nothing about data; callable by every role.
CREATE FUNCTION "relais_assert"("ok" boolean, "message" text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION USING MESSAGE = message, ERRCODE = 'P0001';
  END IF;
  RETURN true;
END
$$;
