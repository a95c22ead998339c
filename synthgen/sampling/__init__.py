"""Fresh identifiers and personal data, class plans for conditional and balanced sampling."""
