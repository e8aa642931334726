"""Carrier adapters (AWS End User Messaging SMS, Twilio) behind one small interface."""
