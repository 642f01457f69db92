import builtins
builtins.print("sitecustomize of the submission ran")
