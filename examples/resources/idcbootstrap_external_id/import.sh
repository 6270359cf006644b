# Adopt an external ID the vendor already uses. The ID is a secret, so pass it
# through the environment rather than on the command line: `env:NAME` makes the
# provider read the variable NAME.
export EXTERNAL_ID='replace-with-the-existing-external-id'
terraform import idcbootstrap_external_id.example env:EXTERNAL_ID

# Or, where the command line is private enough, the ID itself:
# terraform import idcbootstrap_external_id.example 'replace-with-the-existing-external-id'
