-- Tells listening servers that a user, session or API key changed or went, whichever process
-- changed it, so none goes on trusting an authentication it remembers.
CREATE OR REPLACE FUNCTION darkroom_auth_changed()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  PERFORM pg_notify('darkroom_auth_changed', '');
  RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER "darkroom_auth_changed" AFTER UPDATE OR DELETE ON "user"
  FOR EACH STATEMENT EXECUTE FUNCTION darkroom_auth_changed();
CREATE OR REPLACE TRIGGER "darkroom_auth_changed" AFTER UPDATE OR DELETE ON "session"
  FOR EACH STATEMENT EXECUTE FUNCTION darkroom_auth_changed();
CREATE OR REPLACE TRIGGER "darkroom_auth_changed" AFTER UPDATE OR DELETE ON "api_key"
  FOR EACH STATEMENT EXECUTE FUNCTION darkroom_auth_changed();
