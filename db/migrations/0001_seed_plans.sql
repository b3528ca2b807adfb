-- The platform's plans (issue 3 of the product backlog). Prices in whole XAF per month.
-- tickets_per_month / max_agents NULL = unlimited. commission_rate_bps: platform share of each
-- customer payment (1000 = 10%); the commission plan charges no monthly fee.
INSERT INTO "plans" ("id", "name_fr", "name_en", "monthly_fee_xaf", "tickets_per_month", "max_agents", "api_access", "white_label", "commission_rate_bps") VALUES
  ('starter',    'Starter',    'Starter',    19000,  100,  3,    false, false, 0),
  ('business',   'Business',   'Business',   52000,  1000, 10,   true,  true,  0),
  ('enterprise', 'Entreprise', 'Enterprise', 130000, NULL, NULL, true,  true,  0),
  ('commission', 'Commission', 'Commission', 0,      NULL, 10,   false, false, 1000)
ON CONFLICT ("id") DO NOTHING;
