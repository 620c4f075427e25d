// Package telegram speaks the Telegram Bot API (https://core.telegram.org/bots/api): it checks
// and parses the Update objects Telegram POSTs to a webhook, and sends messages with the Bot
// API's send methods.
//
// The channel's credentials are used thus: AccessToken is the bot token BotFather gave
// ("123456:ABC-DEF..."), WebhookSecret the secret_token the webhook was registered with
// (setWebhook), which Telegram sends back in the X-Telegram-Bot-Api-Secret-Token header of
// every webhook request.
//
// Telegram sends no delivery or read receipts for bots and does not echo the bot's own
// messages, so Parse only ever yields channel.UpdateMessage.
package telegram
