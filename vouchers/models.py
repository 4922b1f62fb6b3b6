# Models for this service arrive with its issue.
