resource "aws_db_instance" "main" {
  username = "app"
  password = var.db_password
  password = local.db_password
  password = random_password.db.result
  password = "${var.db_password}"
  password = module.secrets.db_password
  password = data.aws_secretsmanager_secret_version.db.secret_string
  password = "FakeTfLiteralPw-2024"
}
variable "db_password" {
  type      = string
  sensitive = true
}
