"""Data access. The only package that imports boto3; everything else receives a store object."""
