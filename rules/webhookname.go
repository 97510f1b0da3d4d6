package rules

// WebhookCalloutName is the name of the callout an AR webhook fires (and its rule's
// name): deliveries of webhook WBH000000000101 are stored under
// "webhook WBH000000000101".
func WebhookCalloutName(webhookID string) string { return "webhook " + webhookID }
