DROP INDEX "tickets_open_assignee_idx";--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "open_tickets" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Round-robin needs each agent's open load at every ticket opening; counting it there reads
-- hundreds of recent tickets (not yet all-visible) per candidate. The trigger keeps the count on
-- users wherever a ticket's status or assignee changes, whatever code changes it. No backfill:
-- no ticket had an assignee before migration 0011 made assignment exist.
CREATE FUNCTION "tickets_track_open_load"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was_open boolean := TG_OP <> 'INSERT' AND OLD.assignee_id IS NOT NULL AND OLD.status IN ('open', 'pending');
  is_open boolean := TG_OP <> 'DELETE' AND NEW.assignee_id IS NOT NULL AND NEW.status IN ('open', 'pending');
BEGIN
  IF was_open AND is_open AND OLD.assignee_id = NEW.assignee_id THEN
    RETURN NULL;
  END IF;
  IF was_open THEN
    UPDATE "users" SET "open_tickets" = "open_tickets" - 1 WHERE "tenant_id" = OLD.tenant_id AND "id" = OLD.assignee_id;
  END IF;
  IF is_open THEN
    UPDATE "users" SET "open_tickets" = "open_tickets" + 1 WHERE "tenant_id" = NEW.tenant_id AND "id" = NEW.assignee_id;
  END IF;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER "tickets_open_load" AFTER INSERT OR DELETE OR UPDATE OF "status", "assignee_id" ON "tickets"
  FOR EACH ROW EXECUTE FUNCTION "tickets_track_open_load"();
