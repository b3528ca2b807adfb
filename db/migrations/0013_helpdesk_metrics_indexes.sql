DROP INDEX "tickets_created_idx";--> statement-breakpoint
CREATE INDEX "csat_responses_created_idx" ON "csat_responses" USING btree ("tenant_id","created_at","agent_id","rating");--> statement-breakpoint
CREATE INDEX "tickets_resolved_idx" ON "tickets" USING btree ("tenant_id","resolved_at","created_at","assignee_id","merged_into_id","resolution_due_at") WHERE "tickets"."resolved_at" is not null;--> statement-breakpoint
CREATE INDEX "tickets_open_assignee_idx" ON "tickets" USING btree ("tenant_id","assignee_id") WHERE "tickets"."status" in ('open', 'pending');--> statement-breakpoint
CREATE INDEX "tickets_created_idx" ON "tickets" USING btree ("tenant_id","created_at","assignee_id","merged_into_id","first_responded_at","first_response_due_at","resolved_at","sla_paused_at");