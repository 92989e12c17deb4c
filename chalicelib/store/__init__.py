"""DynamoDB access: pynamodb models (``models``) and the data-access functions built on them.

Only this package imports pynamodb; domain modules receive plain values.
"""
