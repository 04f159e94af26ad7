"""Networked mode, client side: a gRPC link to orchgpt behind the ordinary Bus."""
