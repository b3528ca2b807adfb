import { z } from 'zod';

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

const host = z
  .string()
  .trim()
  .refine((value) => IPV4.test(value) || HOSTNAME.test(value) || /^[0-9a-f:]+$/i.test(value), 'host must be a host name or an IP address');

/** The RouterOS API ports: 8728 plain, 8729 TLS (api-ssl). */
export const ROUTEROS_API_PORT = 8728;
export const ROUTEROS_API_TLS_PORT = 8729;

export const routerFields = {
  name: z.string().trim().min(1, 'name is required').max(80),
  host,
  port: z.coerce.number().int().min(1).max(65_535).optional(),
  tls: z.boolean().default(false),
  username: z.string().trim().min(1, 'user is required').max(100),
  password: z.string().max(200),
  dnsName: z
    .string()
    .trim()
    .max(253)
    .refine((value) => value === '' || HOSTNAME.test(value), 'dns-name must be a host name (e.g. wifi.example.cm)')
    .optional(),
  hotspotServer: z.string().trim().max(80).optional(),
};

export const addRouterInput = z.object({ tenantId: z.uuid(), ...routerFields });
export type AddRouterInput = z.input<typeof addRouterInput>;

export const updateRouterInput = z.object({
  tenantId: z.uuid(),
  routerId: z.uuid(),
  name: routerFields.name.optional(),
  host: routerFields.host.optional(),
  port: routerFields.port,
  tls: z.boolean().optional(),
  username: routerFields.username.optional(),
  /** Omitted = keep the stored password. */
  password: routerFields.password.optional(),
  dnsName: routerFields.dnsName.nullable(),
  hotspotServer: routerFields.hotspotServer.nullable(),
});
export type UpdateRouterInput = z.input<typeof updateRouterInput>;
