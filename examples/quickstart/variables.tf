variable "aws_account_id" {
  description = "The AWS account that holds the IAM Identity Center instance (12 digits)."
  type        = string
  default     = "123456789012"
}

variable "sso_instance_arn" {
  description = "ARN of the IAM Identity Center instance, e.g. arn:aws:sso:::instance/ssoins-0123456789abcdef."
  type        = string
  default     = "arn:aws:sso:::instance/ssoins-abcdef0123456789"
}

variable "region" {
  description = "The region the IAM Identity Center instance lives in."
  type        = string
  default     = "us-east-1"
}

variable "trusted_principal_arn" {
  description = "The vendor's IAM principal: the only one the role trusts."
  type        = string
  default     = "arn:aws:iam::111122223333:role/vendor/IdcBootstrapIntegration"
}

variable "access_level" {
  description = "read_only, assignments or admin."
  type        = string
  default     = "read_only"
}

variable "role_name" {
  description = "Name of the trust role."
  type        = string
  default     = "IdcBootstrapTrustRole"
}

variable "role_path" {
  description = "IAM path of the trust role."
  type        = string
  default     = "/"
}

variable "template_url" {
  description = "Where you host the rendered CloudFormation template (S3), for the quick-create link. Null for no link."
  type        = string
  default     = "https://example-bucket.s3.us-east-1.amazonaws.com/idcbootstrap/template.yaml"
}

variable "test" {
  description = "Have the vendor test the role after registering it. Needs the role (./aws-role) to exist."
  type        = bool
  default     = false
}
