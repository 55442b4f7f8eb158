"""Who is who and who may do what: the access policy as a pure table (policy), the one authorization layer
(authz), users and memberships, API tokens, sign-in sessions and their throttle, share links, encryption at rest
(crypto) and the audit trail."""
