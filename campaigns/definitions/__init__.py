"""File schemas and the shipped library: campaign, template, pack and roles files, and their vocabulary.

Pure: no warehouse, no network. Every file is a typed model that rejects unknown keys; errors name the
file, the line and the key.
"""
