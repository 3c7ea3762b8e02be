//! Operation documents (`assets/graphql/*.graphql`), checked against the
//! contract schema at compile time by `graphql_client`.

use graphql_client::GraphQLQuery;

pub use super::scalars::WireDate as Date;
/// The `Object` scalar: free-form JSON.
pub type Object = serde_json::Value;

/// A typed operation plus the name of its root field, which is where the
/// `{success, code, message, data}` envelope sits in the response.
pub trait Operation: GraphQLQuery {
    const ROOT: &'static str;
}

// The derive reads its attributes literally, so these cannot come from a
// `macro_rules!` (literals passed through a macro are not seen).
macro_rules! root_field {
    ($name:ident, $root:literal) => {
        impl Operation for $name {
            const ROOT: &'static str = $root;
        }
    };
}

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/generate_oauth_token.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct GenerateOAuthToken;
root_field!(GenerateOAuthToken, "generateOAuthToken");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/conversation_list.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct ConversationList;
root_field!(ConversationList, "getConversationList");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/conversation.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct Conversation;
root_field!(Conversation, "getConversation");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/update_conversation.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct UpdateConversation;
root_field!(UpdateConversation, "updateConversation");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/messages.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct Messages;
root_field!(Messages, "getMessages");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/message.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct Message;
root_field!(Message, "getMessage");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/create_message.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct CreateMessage;
root_field!(CreateMessage, "createMessage");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/contact.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct Contact;
root_field!(Contact, "getContact");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/contact_list.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct ContactList;
root_field!(ContactList, "getContactList");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/agents.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct Agents;
root_field!(Agents, "getCustomerPersonList");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/channels.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct Channels;
root_field!(Channels, "getAllConnectedPlatformList");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/templates.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct Templates;
root_field!(Templates, "getWhatsappBusinessTemplateList");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/create_contact.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct CreateContact;
root_field!(CreateContact, "createContact");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/update_contact.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct UpdateContact;
root_field!(UpdateContact, "updateContact");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/delete_contact.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct DeleteContact;
root_field!(DeleteContact, "deleteContact");

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "assets/qpien.graphql",
    query_path = "assets/graphql/send_template.graphql",
    response_derives = "Debug",
    variables_derives = "Debug",
    skip_serializing_none
)]
pub struct SendTemplate;
root_field!(SendTemplate, "sendWhatsappTemplateMessage");
