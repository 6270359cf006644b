# Adopt an external ID the vendor already uses. The ID is a secret, so pass it
# through the environment rather than on the command line: `env:NAME` makes the
# provider read the variable NAME, which must start with IDCBOOTSTRAP_EXTERNAL_ID_
# (the provider reads no other variable this way).
export IDCBOOTSTRAP_EXTERNAL_ID_EXAMPLE='replace-with-the-existing-external-id'
terraform import idcbootstrap_external_id.example env:IDCBOOTSTRAP_EXTERNAL_ID_EXAMPLE

# Or, where the command line is private enough, the ID itself:
# terraform import idcbootstrap_external_id.example 'replace-with-the-existing-external-id'
