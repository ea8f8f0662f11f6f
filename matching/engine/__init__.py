"""Matching engine: turns scored candidate pairs into customer clusters."""
