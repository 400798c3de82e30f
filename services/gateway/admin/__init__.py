"""The admin API under /admin/v1: operator actions on the running exchange (halt and resume a
market; scenarios of the market simulation hang off it too). Mounted only when ADMIN_TOKEN is
set; every call carries `Authorization: Bearer <ADMIN_TOKEN>`. Every action is logged and
counted (gateway.admin.audit). docs/admin.md describes the endpoints."""
