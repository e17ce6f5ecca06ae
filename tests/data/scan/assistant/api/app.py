"""The assistant's Python API: the User's sessions (a docstring)."""
from sqlalchemy import Column, String, text
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class ChatSession(Base):
    __tablename__ = "chat_sessions"

    id = Column(String, primary_key=True)
    title = Column("sessionName", String)


def email_of(session, user_id):
    # "User" in a comment
    return session.execute(text('SELECT email FROM "User" WHERE id = :id'), {"id": user_id}).scalar()
