"""The onboarding status read model: the document `GET /clienteling/onboarding-status` serves."""
