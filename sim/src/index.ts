// Protocol-level simulators of CamPay, RouterOS, Telegram, Africa's Talking and WhatsApp Cloud, for
// tests, benchmarks and demo mode. None exists yet.
export {};
