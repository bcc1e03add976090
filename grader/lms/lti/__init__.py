"""LTI 1.3 tool: OIDC login and launch, deep linking, AGS score passback, NRPS roster (pylti1p3)."""
